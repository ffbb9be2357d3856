"""Generated from proto/herald/v1/herald.proto by ``make proto``."""
