/* Port lists, name resolution and our source-port range. */
#include <criterion/criterion.h>
#include <sys/socket.h>

#include "route.h"
#include "targets.h"

static struct port_list pl;
static char err[160];

Test(ports, list_and_ranges_in_order_without_duplicates)
{
	cr_assert_eq(ports_parse("443,80,8000-8003,80,8001", &pl, err, sizeof(err)), 0);
	uint16_t want[] = { 443, 80, 8000, 8001, 8002, 8003 };
	cr_assert_eq(pl.n, 6);
	cr_assert_arr_eq(pl.v, want, sizeof(want));
	ports_free(&pl);
}

Test(ports, extremes)
{
	cr_assert_eq(ports_parse("1,65535", &pl, err, sizeof(err)), 0);
	cr_assert_eq(pl.n, 2);
	ports_free(&pl);
	cr_assert_eq(ports_parse("1-65535", &pl, err, sizeof(err)), 0);
	cr_assert_eq(pl.n, 65535);
	ports_free(&pl);
}

Test(ports, refused)
{
	const char *bad[] = { "0", "65536", "abc", "90-80", "80,", ",80", "", "80-", "-80",
			      "80 ", "8o", "80,,81", "99999999999999999999", "1-2-3", "+80" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		cr_assert_eq(ports_parse(bad[i], &pl, err, sizeof(err)), -1, "'%s' accepted", bad[i]);
		cr_assert_null(pl.v);
		cr_assert_neq(err[0], '\0');
	}
}

Test(resolve, numeric)
{
	struct addr a;
	cr_assert_eq(target_resolve("198.18.0.2", AF_UNSPEC, 1, &a, err, sizeof(err)), 0);
	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(a.b[3], 2);
	cr_assert_eq(target_resolve("2001:db8::2", AF_UNSPEC, 1, &a, err, sizeof(err)), 0);
	cr_assert_eq(a.family, AF_INET6);
	cr_assert_eq(a.b[15], 2);
}

Test(resolve, family_and_numeric_constraints)
{
	struct addr a;
	cr_assert_eq(target_resolve("2001:db8::2", AF_INET, 1, &a, err, sizeof(err)), -1);
	cr_assert_eq(target_resolve("198.18.0.2", AF_INET6, 1, &a, err, sizeof(err)), -1);
	cr_assert_eq(target_resolve("localhost", AF_UNSPEC, 1, &a, err, sizeof(err)), -1);
	cr_assert_eq(target_resolve("198.18.0.300", AF_UNSPEC, 1, &a, err, sizeof(err)), -1);
	cr_assert_eq(target_resolve("", AF_UNSPEC, 0, &a, err, sizeof(err)), -1);
}

Test(route, our_ports_avoid_the_kernels)
{
	uint16_t lo, hi;
	route_our_ports(32768, 60999, &lo, &hi);
	cr_assert_eq(lo, 61000);
	cr_assert_eq(hi, 65535);
	route_our_ports(1024, 65000, &lo, &hi);
	cr_assert_eq(lo, 65001, "a small span above still beats nothing below");
	cr_assert_eq(hi, 65535);
	route_our_ports(20000, 65535, &lo, &hi);
	cr_assert_eq(lo, 1024);
	cr_assert_eq(hi, 19999);
	route_our_ports(1024, 65535, &lo, &hi);
	cr_assert_eq(lo, 61000, "nothing left: share, the ISN still guards");
	route_our_ports(70000, 10, &lo, &hi);
	cr_assert_eq(lo, 61000, "nonsense read from /proc: the default range");
}
