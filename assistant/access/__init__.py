"""Who may ask and what is recorded: users, the audit record, feedback."""
