//! Ports: the traits the shell implements.
