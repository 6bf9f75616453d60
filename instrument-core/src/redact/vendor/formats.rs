//! The built-in vendor formats as data: per format its prefixes, the shape its vendor documents,
//! and examples and look-alikes that this module's tests check (and the README lists).

use super::{Alphabet, Checksum};

/// One built-in vendor format, with examples that must be redacted and look-alikes that must
/// stay (checked by this module's tests, listed in the README).
#[derive(Debug)]
// The examples are read by the tests only.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) struct VendorToken {
    pub(crate) name: &'static str,
    pub(crate) prefixes: &'static [&'static str],
    pub(crate) alphabet: Alphabet,
    pub(crate) length: [usize; 2],
    /// Separators inside the body at these offsets (`SG.` keys: `.` after 22 characters).
    pub(crate) layout: &'static [(usize, u8)],
    /// The body starts with a digit (Slack: `xoxb-<team number>-…`).
    pub(crate) digit_first: bool,
    pub(crate) checksum: Option<Checksum>,
    pub(crate) keep_prefix: bool,
    pub(crate) examples: &'static [&'static str],
    pub(crate) look_alikes: &'static [&'static str],
}

const fn token(
    name: &'static str,
    prefixes: &'static [&'static str],
    alphabet: Alphabet,
    length: [usize; 2],
) -> VendorToken {
    VendorToken {
        name,
        prefixes,
        alphabet,
        length,
        layout: &[],
        digit_first: false,
        checksum: None,
        keep_prefix: false,
        examples: &[],
        look_alikes: &[],
    }
}

/// The built-in vendor formats (the `vendor_secrets` group), each with the shape its vendor
/// documents.
pub(crate) const VENDOR_TOKENS: &[VendorToken] = &[
    VendorToken {
        // 30 random base62 characters and a 6-character CRC32 (GitHub, April 2021 format).
        checksum: Some(Checksum::Crc32Base62),
        examples: &[
            "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",
            "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",
            "ghs_wLKHr0rMTtJhsEK7GjFRYOYkmnPRZB1tFGSM",
        ],
        look_alikes: &[
            "ghp_lhQCvpm8FOFlEsD4qmq5ShuHRWYl393GJdmD",
            "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "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A",
        ],
        ..token(
            "github_token",
            &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
            Alphabet::Base62,
            [36, 36],
        )
    },
    VendorToken {
        // Fine-grained personal access tokens: 22 characters, `_`, 59 characters.
        layout: &[(22, b'_')],
        examples: &[
            "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",
        ],
        look_alikes: &["github_pat_short_token", "github_pat_settings_page"],
        ..token("github_token", &["github_pat_"], Alphabet::Base62, [81, 81])
    },
    VendorToken {
        examples: &[
            "glpat-xK9pQ2mW7vR4tY8zN3bL",
            "glpat-Ab3dE5gH7jK9mN1pQ3sT.01.0w1x2y3z4",
        ],
        look_alikes: &["glpat-example", "glpat-xxxxxxxxxxxxxxxxxxxx"],
        ..token(
            "gitlab_token",
            &["glpat-", "gldt-", "glrt-", "glptt-", "gloas-", "glcbt-"],
            Alphabet::Base64Url,
            [20, 120],
        )
    },
    VendorToken {
        examples: &[
            "xoxb-2644826410-4902184729152-Hx8fK2pQ9mZ4vR7tW1yB3nLs",
            "xoxp-1234567890-1234567890-1234567890-0123456789abcdef0123456789abcdef",
        ],
        // The body starts with the team's number.
        digit_first: true,
        look_alikes: &[
            "xoxb-your-token-here",
            "xoxb-your-slack-bot-token-goes-here",
            "xoxb-XXXXXXXXXXXX-XXXXXXXXXXXX-XXXXXXXXXXXXXXXXXXXXXXXX",
        ],
        ..token(
            "slack_token",
            &[
                "xoxb-", "xoxp-", "xoxa-", "xoxo-", "xoxr-", "xoxs-", "xoxe-", "xoxe.xoxp-",
            ],
            Alphabet::AlnumDash,
            [20, 250],
        )
    },
    VendorToken {
        // The webhook path after the host: T<team>/B<channel>/<24-character secret>.
        keep_prefix: true,
        examples: &["https://hooks.slack.com/services/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"],
        look_alikes: &["https://hooks.slack.com/services/", "https://hooks.slack.com/services/help"],
        ..token(
            "slack_webhook",
            &[
                "://hooks.slack.com/services/",
                "://hooks.slack.com/workflows/",
                "://hooks.slack.com/triggers/",
            ],
            Alphabet::Base64,
            [30, 120],
        )
    },
    VendorToken {
        examples: &[
            "sk_live_51HqZ2bK9pQ2mW7vR4tY8zN3bL6sJdF0",
            "rk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "sk_test_4eC39HqLyjWDarjtT1zdp7dc",
        ],
        look_alikes: &["sk_live_", "sk_live_key", "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"],
        ..token(
            "stripe_key",
            &["sk_live_", "rk_live_", "sk_test_", "rk_test_"],
            Alphabet::Base62,
            [24, 247],
        )
    },
    VendorToken {
        examples: &["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        look_alikes: &["whsec_placeholder", "whsec_..."],
        ..token(
            "stripe_webhook_secret",
            &["whsec_"],
            Alphabet::Base64,
            [32, 64],
        )
    },
    VendorToken {
        // 39 characters in all.
        examples: &["AIzaEgtSUJwW5BUEQ8XS-F2Xs8cUuA-7N2EoNaf"],
        look_alikes: &["AIzaEgtSUJwW5BUEQ8XS-F2Xs8cUuA-7N2EoN", "AIzaHelloWorld"],
        ..token("google_api_key", &["AIza"], Alphabet::Base64Url, [35, 35])
    },
    VendorToken {
        // Project, service-account and admin keys.
        examples: &[
            "sk-proj-2aQiZ6odrUlAJvABNMWj0dbPtbTW7YRogqm2-f9PrBOsJxUT-gAAK6SrFSXTkXvk42JD0zJbkmMg7gaUiASFCK-62_4f16U3UARKwIPpjCraTh_7ZdZfiKs5",
            "sk-svcacct-Ab3dE5gH7jK9mN1pQ3sT5vX7zB9dF1hJ3lN5pR7tV9xZ1bD3fH5jL",
        ],
        look_alikes: &["sk-proj-example", "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
        ..token(
            "openai_api_key",
            &["sk-proj-", "sk-svcacct-", "sk-admin-"],
            Alphabet::Base64Url,
            [40, 250],
        )
    },
    VendorToken {
        // The legacy format: `sk-` and 48 base62 characters.
        examples: &["sk-fIwn76YOzYL0IRWHaiXS24fEz0zlyAirTzRSxjvvU2Nt6iBS"],
        look_alikes: &["sk-learn", "sk-fIwn76YOzYL0IRWHaiXS24fEz0zlyAirTzRSxjvvU2Nt6iB"],
        ..token("openai_api_key", &["sk-"], Alphabet::Base62, [48, 48])
    },
    VendorToken {
        examples: &[
            "sk-ant-api03-nViTQlISvY00bI3fGZJlBKuVr4lnPH7lCj7OulCU_WZN6cyAckYUibJBFrOcqD5Jc2vI1r-FJ8hSh6LKbyBcvMEy0iwd6AA",
        ],
        look_alikes: &["sk-ant-api03-", "sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"],
        ..token("anthropic_api_key", &["sk-ant-"], Alphabet::Base64Url, [40, 200])
    },
    VendorToken {
        // Same format and checksum as GitHub's.
        checksum: Some(Checksum::Crc32Base62),
        examples: &["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"],
        look_alikes: &["npm_iAGEKg6TmLqI2vYZ10QIEfFjEjFfpP0mkXpL", "npm_install_deps"],
        ..token("npm_token", &["npm_"], Alphabet::Base62, [36, 36])
    },
    VendorToken {
        // A macaroon: `pypi-AgEIcHlwaS5vcmc…` (base64 of `pypi.org`).
        examples: &[
            "pypi-AgEIcHlwaS5vcmcNPMFAXWog-oCGh5ut-ut4_wHdNc_hKyRSTk8sWGzXLmQNWupZy4zMQRhfEZmZtgKH8jQ5x",
        ],
        look_alikes: &[
            "pypi-simple-index",
            "pypi-AgEIcHlwaS5vcmc",
            "pypi-simple-index-mirror-for-internal-packages-and-more-of-them",
        ],
        ..token("pypi_token", &["pypi-AgE"], Alphabet::Base64Url, [44, 300])
    },
    VendorToken {
        // `SG.`, 22 characters, `.`, 43 characters.
        layout: &[(22, b'.')],
        examples: &["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"],
        look_alikes: &["SG.ip1OORAdluvbaqXprA0ZCR", "SG.example.com"],
        ..token("sendgrid_api_key", &["SG."], Alphabet::Base64Url, [65, 65])
    },
    VendorToken {
        // API key SIDs (`SK`) and account SIDs (`AC`): 32 lowercase hex digits.
        examples: &["SK2f7d2cb191a5b734575a1d8c4f6b4428", "ACd5b8c1628f9edede5ffb155b81f64157"],
        look_alikes: &["SK2f7d2cb191a5b734575a1d8c4f6b44", "ACCOUNT0123456789abcdef0123456789"],
        ..token("twilio_key", &["SK", "AC"], Alphabet::HexLower, [32, 32])
    },
    VendorToken {
        // 64 random bytes, base64: 86 characters and `==`.
        keep_prefix: true,
        examples: &[
            "AccountKey=F6k+9Ay4PH3MrzWQHVBeisYil/HSB9ijUtRQb3SzeKAExtSzceqPthEuRMPPQHKTD8V11UoJ7tA+UD7Ky9sHNX==",
        ],
        look_alikes: &["AccountKey=", "AccountKey=<your-key>"],
        ..token(
            "azure_storage_key",
            &["AccountKey=", "accountkey="],
            Alphabet::Base64,
            [86, 88],
        )
    },
    VendorToken {
        // Service Bus, Event Hubs, IoT Hub: 32 random bytes, base64.
        keep_prefix: true,
        examples: &["SharedAccessKey=T9Sz2MYFkCi2RH2TOUTxKweOcyXFP+n8MPskMCIC00A="],
        look_alikes: &["SharedAccessKeyName=RootManageSharedAccessKey"],
        ..token(
            "azure_storage_key",
            &["SharedAccessKey="],
            Alphabet::Base64,
            [43, 44],
        )
    },
    VendorToken {
        // The signature of a shared access signature URL (HMAC-SHA256, base64, URL-escaped).
        keep_prefix: true,
        examples: &["sig=S8wWq61FtmsKbSyRoWWR9TzcHMg2QwdXXzWB1W25eA4%3D"],
        look_alikes: &["sig=abc", "sig=true"],
        ..token("azure_sas_signature", &["sig="], Alphabet::UrlBase64, [40, 132])
    },
    VendorToken {
        // User keys `NRAK-` (27 characters), insert keys `NRII-`, browser keys `NRJS-`.
        examples: &["NRAK-9CB62HYVE61HRLDUC8TN0LMI436"],
        look_alikes: &["NRAK-EXAMPLE", "NRAK-"],
        ..token(
            "new_relic_key",
            &["NRAK-", "NRII-", "NRJS-", "NRIQ-"],
            Alphabet::Base64Url,
            [19, 40],
        )
    },
    VendorToken {
        // STS session tokens: base64 of a binary blob that starts the same for every token.
        examples: &[
            "IQoJb3JpZ2luX2VjEHYaCXVzLWVhc3QtMSJHMEUCIQD7Kx7pQ2mW9vR4tY8zN3bL6sJdF0hG5cV1aE2iO9uT3yQIgVx8pR4tY8zN3bL6sJdF0hG5cV1aE2iO9uT3yR8wQ7eK4jH6gF5dS2aZ1xC3vB4nM5lP6oI7",
            "FwoGZXIvYXdzEJr//////////wEaDM3bL6sJdF0hG5cV1aE2iO9uT3yR8wQ7eK4jH6gF5dS2aZ1xC3vB4nM5lP6oI7uY8tR9eW0qA1sD2fG3hJ4kL5zX6cV7bN8mQ9",
        ],
        look_alikes: &["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdzEJr"],
        ..token(
            "aws_session_token",
            &["IQoJb3JpZ2luX2Vj", "FwoGZXIvYXdz", "FQoGZXIvYXdz", "AQoDYXdz"],
            Alphabet::Base64,
            [80, 2000],
        )
    },
];
