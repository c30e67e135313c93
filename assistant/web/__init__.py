"""The Gradio app (the only module importing gradio), its rendering and the admin service."""
