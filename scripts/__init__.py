"""Developer entry points (`make run`)."""
