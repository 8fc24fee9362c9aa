"""Triton kernels of the 'cuda' backend (run by Triton's interpreter on the emulated device)."""
