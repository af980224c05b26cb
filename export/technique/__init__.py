"""Seed 000's technique models on the workstation: data, networks, training, ONNX export."""
