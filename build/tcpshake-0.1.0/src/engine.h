/* engine.h - the run: one event loop for every probe.
 *
 * A deadline queue holds sends and timeouts; poll() waits on the capture
 * descriptors exactly until the next deadline; captured frames are decoded,
 * matched to a live probe and fed to its state machine. */
#ifndef TCPSHAKE_ENGINE_H
#define TCPSHAKE_ENGINE_H

#include "options.h"

/* Probe everything cfg names; returns the exit code (see util.h), or with
 * --format nagios the plugin state. Error lines go through diag. */
int engine_run(const struct config *cfg, struct diag *diag);

#endif
