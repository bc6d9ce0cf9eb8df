"""The course gradebook: SQLite storage, the late policy and weights, exports."""
