"""Question answering: retrieve -> refuse or answer -> cite. Never imports the LLM code."""
