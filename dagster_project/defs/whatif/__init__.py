"""What-if calculators as Dagster assets (docs/whatif.md)."""
