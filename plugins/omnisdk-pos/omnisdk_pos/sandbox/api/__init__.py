"""The KiotViet Public API areas of the sandbox, one module each, over ``gateway``."""
