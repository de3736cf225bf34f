"""The crash harness: kill -9 a real server under load, restart it, check nothing was lost."""
