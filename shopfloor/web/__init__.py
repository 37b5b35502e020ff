"""The web server around NiceGUI and the API: HTTPS, security headers, proxies, body limits, session files."""
