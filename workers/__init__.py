"""RQ jobs: thin wrappers that call dispatch/ services (redash's tasks/ shape)."""
