"""Generative answers: prompt, backends, the local model, verification of each sentence."""
