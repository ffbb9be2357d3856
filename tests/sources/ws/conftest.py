"""ws:feed fixtures: the helpers live in ws_support (imported by module name)."""
