"""Frames between chatd's processes and the socketpair that carries them. Shared by every role."""
