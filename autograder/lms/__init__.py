"""What dlgrade exchanges with learning management systems: the roster, Canvas and Moodle."""
