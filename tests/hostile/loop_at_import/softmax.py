"""Hostile: importing this module never finishes."""
import numpy as np

while True:
    pass
