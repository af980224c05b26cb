"""Hands in the frame: MediaPipe's 21 landmarks per hand, and the keyboard-sized view it looks at."""
