"""The quickstart scenarios `cascadekit quickstart` runs (embedded synthetic defaults)."""
