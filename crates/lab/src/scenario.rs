//! Named lab configurations: what `interloper demo --scenario NAME` starts.

use std::time::Duration;

use crate::{Faults, InstanceConfig, LabConfig, MiddleboxConfig};

/// A named lab configuration and the one line that says what it shows.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Name given to `--scenario`.
    pub name: &'static str,
    /// What the scenario shows, one line.
    pub about: &'static str,
    build: fn() -> LabConfig,
}

impl Scenario {
    /// The lab configuration.
    pub fn config(&self) -> LabConfig {
        (self.build)()
    }

    /// The scenario called `name`.
    pub fn find(name: &str) -> Option<Scenario> {
        SCENARIOS.iter().copied().find(|s| s.name == name)
    }
}

/// Every scenario; the first is the default.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "inspection",
        about: "four instances, the fourth behind HTTPS inspection (an admin-named CA) that stalls ~10 % of static responses 2 s",
        build: founding_story,
    },
    Scenario {
        name: "clean",
        about: "four healthy instances, no middlebox: no finding at warning or above",
        build: clean,
    },
    Scenario {
        name: "fortigate",
        about: "one instance behind inspection whose CA is named like FortiGate's (the product is named)",
        build: fortigate,
    },
    Scenario {
        name: "private",
        about: "one instance with a certificate from a private CA installed locally, no middlebox: not interception",
        build: private,
    },
    Scenario {
        name: "truncate",
        about: "one instance behind a middlebox that cuts ~15 % of static responses short and closes",
        build: truncate,
    },
    Scenario {
        name: "reset",
        about: "one instance behind a middlebox that drops the connection on ~10 % of static requests",
        build: reset,
    },
    Scenario {
        name: "midbody",
        about: "one instance behind a middlebox that pauses some large responses 2 s after their first 16 KB",
        build: midbody,
    },
    Scenario {
        name: "trickle",
        about: "one instance behind a middlebox that forces HTTP/1.1 and trickles bodies at 48 KB/s",
        build: trickle,
    },
];

fn direct(n: usize) -> Vec<InstanceConfig> {
    vec![InstanceConfig::default(); n]
}

fn founding_story() -> LabConfig {
    let mut instances = direct(3);
    let mut mb = MiddleboxConfig::named("Corp Gateway CA", "Example Corp IT");
    mb.faults = Faults {
        stall_probability: 0.10,
        stall: Duration::from_secs(2),
        ..Faults::default()
    };
    instances.push(InstanceConfig {
        middlebox: Some(mb),
        ..InstanceConfig::default()
    });
    LabConfig { instances, seed: 4 }
}

fn clean() -> LabConfig {
    LabConfig {
        instances: direct(4),
        seed: 1,
    }
}

fn fortigate() -> LabConfig {
    LabConfig {
        instances: vec![InstanceConfig {
            middlebox: Some(MiddleboxConfig::named("FortiGate CA", "Fortinet")),
            ..InstanceConfig::default()
        }],
        seed: 2,
    }
}

fn private() -> LabConfig {
    LabConfig {
        instances: vec![InstanceConfig {
            private_ca: Some((
                "Example Corp Internal Root".to_string(),
                "Example Corp".to_string(),
            )),
            ..InstanceConfig::default()
        }],
        seed: 6,
    }
}

fn truncate() -> LabConfig {
    let mut mb = MiddleboxConfig::named("Corp Gateway CA", "Example Corp IT");
    mb.faults = Faults {
        truncate_probability: 0.15,
        truncate_at: Some(1000),
        ..Faults::default()
    };
    LabConfig {
        instances: vec![InstanceConfig {
            middlebox: Some(mb),
            ..InstanceConfig::default()
        }],
        seed: 3,
    }
}

fn trickle() -> LabConfig {
    let mut mb = MiddleboxConfig::named("Corp Gateway CA", "Example Corp IT");
    mb.http1_only = true;
    mb.faults = Faults {
        trickle_bytes_per_sec: Some(48 * 1024),
        ..Faults::default()
    };
    LabConfig {
        instances: vec![InstanceConfig {
            middlebox: Some(mb),
            ..InstanceConfig::default()
        }],
        seed: 5,
    }
}

fn behind(faults: Faults, seed: u64) -> LabConfig {
    let mut mb = MiddleboxConfig::named("Corp Gateway CA", "Example Corp IT");
    mb.faults = faults;
    LabConfig {
        instances: vec![InstanceConfig {
            middlebox: Some(mb),
            ..InstanceConfig::default()
        }],
        seed,
    }
}

fn reset() -> LabConfig {
    behind(
        Faults {
            reset_probability: 0.10,
            ..Faults::default()
        },
        7,
    )
}

fn midbody() -> LabConfig {
    behind(
        Faults {
            stall_probability: 0.20,
            stall_mid_body: true,
            stall_large_only: true,
            ..Faults::default()
        },
        8,
    )
}
