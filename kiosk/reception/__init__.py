"""The advisor's reception desk (/kiosk): scan a tag, check the car in, move its repair order, print tickets."""
