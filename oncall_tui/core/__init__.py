"""The domain and its I/O, without a UI: nothing under `core` may import Textual."""
