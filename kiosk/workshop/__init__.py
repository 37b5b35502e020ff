"""The workshop's desks: the foreman's dispatch board, the technicians' bay stations, the inspectors' quality check."""
