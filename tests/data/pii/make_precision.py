#!/usr/bin/env python3
"""Writes precision.jsonl: the labelled cases of issue 18 (code, configuration, odd layouts,
vendor secrets, and the look-alikes that must stay), in the format of corpus.jsonl.

Every value is generated here with the shape its format documents (seeded, so the file is
stable): no case is copied from another project's tests. Run from this folder:
`python3 make_precision.py > precision.jsonl`.
"""

import json
import random
import string
import zlib

rng = random.Random(1818)
ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
B64URL = ALNUM + "_-"
HEX = "0123456789abcdef"
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
out = []


def rnd(n, alphabet=ALNUM):
    # A random string with enough different characters to be a secret, not a placeholder.
    return "".join(rng.choice(alphabet) for _ in range(n))


def case(text, pii, note):
    out.append({"text": text, "pii": [{"class": c, "value": v} for c, v in pii], "note": note})


def negative(text, note):
    case(text, [], note)


def luhn_complete(partial):
    digits = [int(d) for d in partial]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return partial + str((10 - total % 10) % 10)


def base62(n, width=6):
    s = ""
    while n:
        s = B62[n % 62] + s
        n //= 62
    return s.rjust(width, "0")


def checksummed(prefix):
    body = rnd(30, B62)
    return prefix + body + base62(zlib.crc32(body.encode()))


def iban_check(country, bban):
    moved = bban + country + "00"
    num = "".join(str(int(c, 36)) for c in moved)
    return "%02d" % (98 - int(num) % 97)


def grouped(s, sizes, sep):
    parts, at = [], 0
    for n in sizes:
        parts.append(s[at:at + n])
        at += n
    if at < len(s):
        parts.append(s[at:])
    return sep.join(p for p in parts if p)


# --- IPv4 with a CIDR suffix -------------------------------------------------------------
for tmpl in [
    "allow {v}/{p} only", '"cidr": "{v}/{p}"', "cidr_blocks = [\"{v}/{p}\"]", "--source-ranges={v}/{p}",
    "<CidrIp>{v}/{p}</CidrIp>", "route add {v}/{p} via gw", "SUBNET={v}/{p}", "- {v}/{p}",
    "deny ({v}/{p}), log", "ingress from {v}/{p}.",
]:
    for _ in range(2):
        v = "%d.%d.%d.%d" % (rng.choice([10, 172, 192, 203, 198, 100, 45]), rng.randint(0, 255), rng.randint(0, 255), rng.randint(0, 255))
        case(tmpl.format(v=v, p=rng.choice([8, 16, 20, 22, 24, 28, 32])), [("ipv4", v)], "cidr")
for text in ["see /api/v2/10.1.2.3/4096 for details", "ratio 1.2.3.4/5.6", "loopback 127.0.0.0/8", "version 10.2.3.4.5/24"]:
    negative(text, "cidr look-alike")

# --- cards with wide or mixed separators ---------------------------------------------------
brands = [("4", 16), ("4", 13), ("51", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15), ("37", 15),
          ("6011", 16), ("65", 16), ("36", 14), ("3530", 16), ("62", 16), ("62", 19), ("2200", 16)]
seps = ["  ", "   ", " - ", "\t", "-  "]
for prefix, length in brands:
    for k in range(2):
        number = luhn_complete(prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1)))
        sizes = [4, 6, 5] if length == 15 else [4, 6, 4] if length == 14 else [4, 4, 4, 4, 4]
        if k == 0:
            value = grouped(number, sizes, rng.choice(seps))
        else:  # mixed separators
            parts = grouped(number, sizes, "|").split("|")
            value = parts[0]
            for p in parts[1:]:
                value += rng.choice([" ", "-", "  "]) + p
        tmpl = rng.choice(["card {v} exp 12/29", "| {v} | VISA |", "PAN: {v}", "charged {v}.", "{v}"])
        case(tmpl.format(v=value), [("card", value)], "card separators")
for _ in range(6):
    number = "4" + "".join(rng.choice(string.digits) for _ in range(15))
    if luhn_complete(number[:-1]) == number:
        continue
    negative("ref " + grouped(number, [4, 4, 4, 4], "  "), "card look-alike: Luhn fails")

# --- IBAN-shaped groups with a wrong check digit: no phone, no card inside -----------------
for country, bban_len in [("DK", 14), ("RS", 18), ("NL", 14), ("DE", 18), ("FR", 23), ("BE", 12), ("PL", 24), ("IT", 23)]:
    for _ in range(2):
        bban = "".join(rng.choice(string.digits) for _ in range(bban_len))
        if country == "NL":
            bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(4)) + bban[4:]
        good = iban_check(country, bban)
        bad = "%02d" % ((int(good) + rng.randint(1, 50)) % 97 + 2)
        text = grouped(country + bad + bban, [4] * 9, " ")
        negative(rng.choice(["{v}", "IBAN: {v}", "account {v} closed"]).format(v=text), "iban wrong checksum")

# --- key rules in YAML block scalars, XML, CSV, Go, PHP, Makefile, numbered names ---------
def secret_value():
    return rnd(rng.randint(10, 18), ALNUM + "!#%")

for key, cls in [("token", "token"), ("password", "password"), ("client_secret", "secret"), ("api_key", "api_key")]:
    for ind in ["|", ">", "|-", ">-", "|+"]:
        v = secret_value()
        case(f"config:\n  {key}: {ind}\n    {v}\n  region: eu-west-1", [(cls, v)], "yaml block")
    v = secret_value()
    case(f"<{key}>{v}</{key}>", [(cls, v)], "xml element")
    v = secret_value()
    case(f'<add key="Db{key.title().replace("_", "")}" value="{v}"/>', [(cls, v)], "xml add key")
    v = secret_value()
    case(f'<entry {key}="{v}" user="svc"/>', [(cls, v)], "xml attribute")
    v1, v2 = secret_value(), secret_value()
    case(f"user,{key},region\nbob,{v1},eu\nann,{v2},us", [(cls, v1), (cls, v2)], "csv column")
    v = secret_value()
    case(f"id\t{key}\n7\t{v}", [(cls, v)], "tsv column")
    v = secret_value()
    camel = "".join(w.title() for w in key.split("_"))
    case(f'var my{camel} string = "{v}"', [(cls, v)], "go var")
    v = secret_value()
    case(f"${key} .= '{v}';", [(cls, v)], "php .=")
    for op in ["::=", "?=", "+=", ":="]:
        v = secret_value()
        case(f"{key.upper()} {op} {v}", [(cls, v)], "makefile " + op)
    v = secret_value()
    case(f'some_{key}_{rng.randint(1, 999)} = "{v}"', [(cls, v)], "numbered name")
    v = secret_value()
    case(f"env:\n  - name: REGION\n    value: eu\n  - name: APP_{key.upper()}\n    value: \"{v}\"", [(cls, v)], "k8s env")
    v = secret_value()
    case(f'[{{"name": "APP_{key.upper()}", "value": "{v}"}}, {{"name": "REGION", "value": "eu"}}]', [(cls, v)], "ecs env")
    flag = key.replace("_", "-")
    for tmpl in [f"tool --{flag} {{v}} --verbose", f"tool --{flag} '{{v}}'", f"tool --{flag}={{v}}",
                 f"export {key.upper()}=\"{{v}}\"", f'{{{{"{key}" : "{{v}}"}}}}', f'{key} = "{{v}}"',
                 f"{key.title()}: {{v}}", f"?{key}={{v}}&page=2"]:
        v = secret_value()
        case(tmpl.format(v=v), [(cls, v)], "key forms")

# Names about secrets, and values that are no secrets.
for text in [
    "credentialsId: 'deploy-creds'", "jobCredentialsId = \"jenkins-ssh\"", 'CREDENTIALS_ID = "K8S_CRED"',
    "publicToken: pk_live_4f8a9b2c", "secret_length = X25519.secret_length", 'LLM_SECRET_NAME = "NEXUS-GPT4-API-KEY"',
    "keyVaultToStoreSecrets: kv-prod-weu", "passwordVariable: 'PASSWORD'", "JFROG_SECRET = $(cat /run/secrets/jfrog)",
    "implementation 'io.jsonwebtoken:jjwt-jackson:0.11.2'", "DB_PASSWORD=${DB_PASSWORD}", "api_key: '{{ vault_api_key }}'",
    "token: !Ref GitHubToken", 'password = os.getenv("DB_PASSWORD")', "self.secret = config.secret", "secret: null",
    "password_min_length: 12", "tokenEndpoint: https://login.example.com/oauth2/token", "secretName: db-credentials",
    "api_key_id = 'AKID-42'", "token_type=Bearer", "PASSWORD_FILE=/run/secrets/db", "cookieDomain=.example.com",
    "password: '********'", "client_secret: <your-client-secret>", "secretArn: arn:aws:secretsmanager:eu-west-1:123:secret:db",
    "tokenTtl = 3600", "refresh_token_expires_in: 86400", "passwordPolicy: strict", "token_count=5",
    "GITHUB_TOKEN: ${{ secrets.GITHUB_TOKEN }}", "set password_hint to 'first pet'", "secretsManagerEndpoint=https://sm.example.com",
    "<passwordLength>16</passwordLength>", "user,token_count,region\nbob,5,eu", "var tokenLimit int = 100",
    "%API_TOKEN%", "api_token = System.getenv(\"API_TOKEN\")", "secret_version: 3", "auth_header_name: Authorization",
    '[{"name": "PASSWORD_LENGTH", "value": "12"}]', "- name: API_TOKEN\n  value: $(API_TOKEN)",
    "- name: DB_PASSWORD\n  valueFrom:\n    secretKeyRef:\n      name: db\n      key: password",
    "cmd --password-file /run/secrets/pw", "cmd --token --verbose", "cmd --password $DB_PASSWORD", "--secret-name db-creds",
]:
    negative(text, "key rule look-alike")

# --- STS session tokens, pretty-printed JWTs, IDN emails, SSN phrases, national phones ----
for prefix in ["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzE", "FQoGZXIvYXdzE"]:
    for tmpl in ["aws_session_token = {v}", '"SessionToken": "{v}"', "| SessionToken | {v} |", "export AWS_SESSION_TOKEN={v}", "x-amz-security-token: {v}"]:
        v = prefix + rnd(rng.randint(120, 400), B64)
        case(tmpl.format(v=v), [("aws_session_token", v)], "sts")
negative("prefix IQoJb3JpZ2luX2Vj alone", "sts look-alike")

import base64

def b64url(s):
    return base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")

for header in ['{\n  "alg": "HS256",\n  "typ": "JWT"\n}', '{ "alg": "RS256" }', '{\r\n"alg":"ES256"}', '{\n\t"alg": "HS512"\n}']:
    for tmpl in ["jwt {v} ok", "id_token={v}&state=1", '"jwt": "{v}"', "Cookie-less {v}"]:
        v = b64url(header) + "." + b64url('{\n  "sub": "%d"\n}' % rng.randint(1, 99999)) + "." + rnd(43, B64URL)
        case(tmpl.format(v=v), [("jwt", v)], "pretty jwt")
negative("base64 ewogICJ9 of a brace", "jwt look-alike")

for local, domain in [("a", "xn--d1acufc.xn--p1ai"), ("ivan", "пример.рф"), ("info", "xn--80ak6aa92e.com"),
                      ("kontakt", "xn--mnchen-3ya.de"), ("user", "例子.公司"), ("m", "bücher.xn--p1ai")]:
    v = f"{local}@{domain}"
    for tmpl in ["mail {v} now", "<{v}>", '"email":"{v}"']:
        case(tmpl.format(v=v), [("email", v)], "idn email")
negative("the TLD xn--p1ai alone", "idn look-alike")


def ssn():
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            return "%03d%02d%04d" % (area, rng.randint(1, 99), rng.randint(1, 9999))

for tmpl in ["my social security number is {v}", "SSN on file: {v}", "social security no. {v}", "ssn is {v}",
             "Social Security Number: {v}", "his SSN was {v}."]:
    for fmt in [lambda s: s, lambda s: s[:3] + "-" + s[3:5] + "-" + s[5:]]:
        v = fmt(ssn())
        case(tmpl.format(v=v), [("ssn", v)], "ssn phrase")
negative("my social security office is 12 miles away", "ssn look-alike")

for v in ["09-7625400", "03-5550123", "04-8123456", "02-6234567", "089 1234567", "030 2345678", "06 12345678", "0521 123456",
          "0176 12345678", "(02) 9876 5432", "(030) 1234567", "07700 900123", "030/12345678"]:
    for tmpl in ["call {v} today", "tel: {v}", "Phone ({v})"]:
        case(tmpl.format(v=v), [("phone", v)], "national phone")
for text in ["on 09-2024", "build 05-12345", "range 01-99"]:
    negative(text, "phone look-alike")

# --- vendor secret formats ---------------------------------------------------------------
vendor = [
    ("github_token", lambda: checksummed(rng.choice(["ghp_", "gho_", "ghu_", "ghs_", "ghr_"]))),
    ("github_token", lambda: "github_pat_" + rnd(22) + "_" + rnd(59)),
    ("gitlab_token", lambda: rng.choice(["glpat-", "gldt-", "glrt-"]) + rnd(20, B64URL)),
    ("slack_token", lambda: rng.choice(["xoxb-", "xoxp-"]) + "%d-%d-" % (rng.randint(10**9, 10**10), rng.randint(10**12, 10**13)) + rnd(24)),
    ("stripe_key", lambda: rng.choice(["sk_live_", "rk_live_", "sk_test_"]) + rnd(rng.choice([24, 99]))),
    ("stripe_webhook_secret", lambda: "whsec_" + rnd(32)),
    ("google_api_key", lambda: "AIza" + rnd(35, B64URL)),
    ("openai_api_key", lambda: "sk-proj-" + rnd(rng.randint(60, 150), B64URL)),
    ("openai_api_key", lambda: "sk-" + rnd(48)),
    ("anthropic_api_key", lambda: "sk-ant-api03-" + rnd(93, B64URL) + "AA"),
    ("npm_token", lambda: checksummed("npm_")),
    ("pypi_token", lambda: "pypi-AgEIcHlwaS5vcmc" + rnd(rng.randint(60, 150), B64URL)),
    ("sendgrid_api_key", lambda: "SG." + rnd(22, B64URL) + "." + rnd(43, B64URL)),
    ("twilio_key", lambda: rng.choice(["SK", "AC"]) + rnd(32, HEX)),
    ("new_relic_key", lambda: "NRAK-" + rnd(27, string.ascii_uppercase + string.digits)),
]
contexts = ["leaked {v} in log", '{{"key":"{v}"}}', "key: '{v}'", "export KEY={v}", "cli --key={v} -v",
            "<key>{v}</key>", "Authorization: Bearer {v}", "[{v}]", "({v}),", "{v}"]
for cls, make in vendor:
    for tmpl in rng.sample(contexts, 5):
        v = make()
        case(tmpl.format(v=v), [(cls, v)], "vendor")
for tmpl, make, cls in [
    ("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={v};EndpointSuffix=core.windows.net", lambda: rnd(86, B64) + "==", "azure_storage_key"),
    ("Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey={v}", lambda: rnd(43, B64) + "=", "azure_storage_key"),
    ("GET https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sp=r&sig={v}&se=2026-01-01", lambda: rnd(43) + "%3D", "azure_sas_signature"),
    ("POST https://hooks.slack.com/services/{v} 200", lambda: "T" + rnd(10, string.ascii_uppercase + string.digits) + "/B" + rnd(10, string.ascii_uppercase + string.digits) + "/" + rnd(24), "slack_webhook"),
    ("DD_API_KEY={v}", lambda: rnd(32, HEX), "datadog_api_key"),
    ('"dd-application-key": "{v}"', lambda: rnd(40, HEX), "datadog_api_key"),
    ("NEW_RELIC_LICENSE_KEY: {v}", lambda: rnd(36, HEX) + "NRAL", "new_relic_license_key"),
]:
    for _ in range(3):
        v = make()
        case(tmpl.format(v=v), [(cls, v)], "vendor keyed")
for text in [
    "ghp_" + "x" * 36, "glpat-xxxxxxxxxxxxxxxxxxxx", "xoxb-your-token-here", "sk_live_" + "0" * 24, "AIza_short_key",
    "sk-learn is a library", "npm_config_registry", "pypi-simple", "SG.example.com", "SKU-12345", "ACCOUNT_ID",
    "NRAK-EXAMPLE", "AccountKey=<key>", "sig=abc", "https://hooks.slack.com/services/", "DD_API_KEY=${DD_API_KEY}",
    "sk-proj-placeholder", "whsec_test", "github_pat_example", "xoxb-your-slack-bot-token-goes-here",
    "pypi-simple-index-mirror-for-internal-packages-and-more-of-them", "curl --auth basic -u x",
]:
    negative(text, "vendor look-alike")
# A GitHub/npm token with a wrong checksum.
for prefix in ["ghp_", "npm_"]:
    t = checksummed(prefix)
    t = t[:-1] + ("A" if t[-1] != "A" else "B")
    negative(f"token-like {t} here", "vendor look-alike: checksum")

# --- private keys of every type, basic auth, connection strings ---------------------------
for kind in ["RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "ENCRYPTED PRIVATE KEY",
             "PRIVATE KEY", "PGP PRIVATE KEY BLOCK"]:
    body = rnd(64, B64)
    for nl in ["\n", "\\n"]:
        v = f"-----BEGIN {kind}-----{nl}{body}{nl}-----END {kind}-----"
        case(f"key = \"{v}\"", [("pem", v)], "pem")
body = rnd(48, B64)
v = f"---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\n{body}\n---- END SSH2 ENCRYPTED PRIVATE KEY ----"
case(v, [("pem", v)], "pem ssh2")
negative("-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAw\n-----END PUBLIC KEY-----", "pem look-alike")

for user, pw in [("admin", "s3cr3t!"), ("svc-deploy", "Tr0ub4dor&3"), ("bob", "hunter2hunter2"), ("api", "x7-Kq9_zP")]:
    v = base64.b64encode(f"{user}:{pw}".encode()).decode()
    for tmpl in ["Authorization: Basic {v}", "curl -H 'authorization: basic {v}'", "proxy sent Basic {v} upstream"]:
        case(tmpl.format(v=v), [("basic_auth", v)], "basic auth")
negative("Basic authentication is disabled", "basic look-alike")
negative("basic YWJjZGVmZ2g= is not a credential", "basic look-alike")

for tmpl in ["mongodb+srv://app:{v}@cluster0.example.net/db", "postgres://svc:{v}@db.internal:5432/app",
             "amqps://guest:{v}@mq:5671/", "redis://:{v}@cache:6379/0"]:
    v = rnd(14, ALNUM + "!$*")
    case(tmpl.format(v=v), [("url_credentials", v)], "connection string")
for tmpl in ["jdbc:postgresql://db:5432/app?user=svc&password={v}&ssl=true",
             "Server=tcp:db;Database=app;User Id=sa;Password={v};Encrypt=True",
             "jdbc:sqlserver://db;user=sa;password={v};"]:
    v = rnd(12, ALNUM + "!#")
    case(tmpl.format(v=v), [("password", v)], "connection string")

# A secret access key right after its key ID: `id:secret`, the console's credentials CSV, blanks.
for tmpl in ["credentials {k}:{v}", "{k},{v}", "Access key ID,Secret access key\n{k},{v}",
             "aws keys {k} {v} rotated", "{k} | {v}"]:
    k = rng.choice(["AKIA", "ASIA"]) + rnd(16, string.ascii_uppercase + "234567")
    v = rnd(40, B64)
    case(tmpl.format(k=k, v=v), [("aws_access_key_id", k), ("aws_secret_access_key", v)], "key ID and secret")
k = "AKIA" + rnd(16, string.ascii_uppercase + "234567")
case(f"{k}:" + "".join(rng.choice(HEX) for _ in range(40)), [("aws_access_key_id", k)], "key ID then a hex digest, which stays")
negative(f"user/{k.lower()}:" + rnd(40, B64), "lower-case look-alike of a key ID")
# The secret key after its name and blanks only: the AWS CLI's documented form.
for tmpl in ["aws configure set aws_secret_access_key {v}", "aws configure set aws_secret_access_key {v} --profile ci"]:
    v = rnd(40, B64)
    case(tmpl.format(v=v), [("aws_secret_access_key", v)], "secret key after its name and blanks")
negative("secret key rotation is due for the production and staging accounts", "secret key in prose")
# Luhn-invalid card-shaped references whose later groups read like a national phone number
# (a group starting with 0): neither a card nor a phone number.
def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        x = int(ch) * (2 if i % 2 else 1)
        total += x - 9 if x > 9 else x
    return total % 10 == 0


for tmpl in ["reference {} not a card", "ref {} processed", '"ref": "{}"', "tracking number {} shipped"] * 2:
    while True:
        d = rng.choice("3456") + "".join(rng.choice(string.digits) for _ in range(3)) + "0" + \
            "".join(rng.choice(string.digits) for _ in range(11))
        if not luhn_ok(d):
            break
    negative(tmpl.format(" ".join(d[i:i + 4] for i in range(0, 16, 4))), "Luhn-invalid, a 0 group")

for e in out:
    print(json.dumps(e, ensure_ascii=False))
