"""The load-test modules live flat in loadtest/ (as the image and locust load them)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
