"""Video containers: probing with PyAV, GoPro telemetry, keyframes and the contact sheet."""
