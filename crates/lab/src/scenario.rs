//! Named lab configurations: what `interloper demo --scenario NAME` starts. Each is a TOML
//! file in `crates/lab/scenarios/`, in the same format `interloper lab --config FILE` reads.

use crate::{LabConfig, ScenarioFile};

/// A built-in scenario.
#[derive(Debug, Clone, Copy)]
pub struct Scenario {
    /// Name given to `--scenario`.
    pub name: &'static str,
    text: &'static str,
}

impl Scenario {
    /// The parsed scenario file.
    pub fn file(&self) -> anyhow::Result<ScenarioFile> {
        ScenarioFile::from_toml(self.text)
            .map_err(|e| anyhow::anyhow!("built-in scenario {}: {e}", self.name))
    }

    /// What the scenario shows, one line.
    pub fn about(&self) -> String {
        self.file().map(|f| f.about).unwrap_or_default()
    }

    /// The lab configuration.
    pub fn config(&self) -> anyhow::Result<LabConfig> {
        Ok(self.file()?.lab)
    }

    /// The scenario called `name`.
    pub fn find(name: &str) -> Option<Scenario> {
        SCENARIOS.iter().copied().find(|s| s.name == name)
    }
}

macro_rules! builtin {
    ($($name:literal),* $(,)?) => {
        &[$(Scenario {
            name: $name,
            text: include_str!(concat!("../scenarios/", $name, ".toml")),
        }),*]
    };
}

/// Every scenario; the first is the default.
pub const SCENARIOS: &[Scenario] = builtin![
    "inspection",
    "clean",
    "fortigate",
    "private",
    "truncate",
    "reset",
    "midbody",
    "trickle",
    "tamper",
    "downgrade",
    "address",
    "origin",
    "pq-reset",
];

#[cfg(test)]
mod tests {
    use super::SCENARIOS;

    #[test]
    fn every_built_in_scenario_parses_and_says_what_it_shows() {
        for s in SCENARIOS {
            let f = s.file().unwrap();
            assert!(!f.about.is_empty(), "{}", s.name);
            assert!(!f.lab.instances.is_empty(), "{}", s.name);
        }
    }

    #[test]
    fn every_file_in_the_folder_is_built_in() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
        let mut on_disk: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".toml").map(str::to_string)
            })
            .collect();
        on_disk.sort();
        let mut built_in: Vec<String> = SCENARIOS.iter().map(|s| s.name.to_string()).collect();
        built_in.sort();
        assert_eq!(on_disk, built_in);
    }
}
