"""Frame sources behind one interface: video file or URL, V4L2, picamera2, rendered scene."""
