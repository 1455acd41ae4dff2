/* privs.c - capability checks and the final drop, with libcap. */
#include "privs.h"

#include <sys/capability.h>
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

int privs_drop_all(void)
{
	cap_t none = cap_init();
	if (!none)
		return -1;
	int rc = cap_set_proc(none);
	cap_free(none);
	return rc;
}
