/* privs.c - capability checks and the final drop, with libcap. */
#include "privs.h"

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

bool privs_have(int cap)
{
	cap_t caps = cap_get_proc();
	cap_flag_value_t v = CAP_CLEAR;
	if (!caps)
		return false;
	if (cap_get_flag(caps, (cap_value_t)cap, CAP_EFFECTIVE, &v) < 0)
		v = CAP_CLEAR;
	cap_free(caps);
	return v == CAP_SET;
}

bool privs_setid(void)
{
	return getuid() != geteuid() || getgid() != getegid();
}

/* With CAP_SETPCAP (a root run): uid 0 stops meaning capabilities, for
 * good (the securebits, locked), and the bounding set is emptied, so
 * nothing this process or a child could ever run regains one. Without it
 * (file capabilities) there is nothing to lock: the bounding set only caps
 * what an execve could add, and NO_NEW_PRIVS forbids that. */
static int lock_root(void)
{
	if (!privs_have(CAP_SETPCAP))
		return 0;
	const int bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
			 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
			 SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
	if (prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) < 0)
		return -1;
	for (cap_value_t c = 0; c < cap_max_bits(); c++) /* the running kernel's */
		if (cap_drop_bound(c) < 0)
			return -1;
	return 0;
}

int privs_drop_all(void)
{
	if (lock_root() < 0 || cap_reset_ambient() < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	cap_t none = cap_init();
	if (!none)
		return -1;
	int rc = cap_set_proc(none);
	cap_free(none);
	return rc;
}
