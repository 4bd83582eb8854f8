"""Per-chapter study logic: settings by profile, orchestration and claim verdicts (one module per chapter)."""
