/* Target blocks, excludes, files, and the permutation over them. */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "permute.h"
#include "tset.h"

static struct tset s;
static char err[256];

static void init(void)
{
	tset_init(&s, AF_UNSPEC, true, 0);
}

static void fini(void)
{
	tset_free(&s);
}

TestSuite(tset, .init = init, .fini = fini);

static const char *at(uint64_t i, char *buf)
{
	struct addr a;
	const char *name;
	size_t block;
	tset_at(&s, i, &a, &name, &block);
	return addr_str(&a, buf, 64);
}

Test(tset, cidr_range_and_address)
{
	char b[64];
	cr_assert_eq(tset_add(&s, "198.18.0.0/30", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "198.18.1.10-12", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "198.18.2.250-198.18.3.1", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "2001:db8::/126", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "198.18.9.9", err, sizeof(err)), 0);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	cr_assert_eq(s.total, 4 + 3 + 8 + 4 + 1);
	cr_assert_str_eq(at(0, b), "198.18.0.0");
	cr_assert_str_eq(at(3, b), "198.18.0.3");
	cr_assert_str_eq(at(4, b), "198.18.1.10");
	cr_assert_str_eq(at(7, b), "198.18.2.250");
	cr_assert_str_eq(at(14, b), "198.18.3.1");
	cr_assert_str_eq(at(15, b), "2001:db8::");
	cr_assert_str_eq(at(18, b), "2001:db8::3");
	cr_assert_str_eq(at(19, b), "198.18.9.9");
}

Test(tset, host_bits_masked)
{
	char b[64];
	cr_assert_eq(tset_add(&s, "198.18.0.77/24", err, sizeof(err)), 0);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	cr_assert_eq(s.total, 256);
	cr_assert_str_eq(at(0, b), "198.18.0.0");
}

Test(tset, malformed)
{
	const char *bad[] = { "198.18.0.0/33", "2001:db8::/129", "198.18.0.0/", "/24",
			      "198.18.0.9-3", "198.18.0.1-256", "198.18.0.1-2001:db8::1",
			      "198.18.0.0/-1", "300.1.1.1/8", "198.18.0.5-198.18.0.1" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		cr_assert_eq(tset_add(&s, bad[i], err, sizeof(err)), -1, "'%s' accepted", bad[i]);
}

Test(tset, names_with_numeric_only_do_not_resolve)
{
	cr_assert_eq(tset_add(&s, "host-a.invalid", err, sizeof(err)), 1);
	cr_assert_eq(s.unresolved, 1);
	cr_assert_str_eq(s.first_unresolved, "host-a.invalid");
}

Test(tset, ipv6_bound)
{
	cr_assert_eq(tset_add(&s, "2001:db8::/100", err, sizeof(err)), 0);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), -1, "2^28 > 2^24");
	cr_assert(strstr(err, "--max-targets"));
	tset_free(&s);
	tset_init(&s, AF_UNSPEC, true, UINT64_C(1) << 28);
	cr_assert_eq(tset_add(&s, "2001:db8::/100", err, sizeof(err)), 0);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	cr_assert_eq(s.total, UINT64_C(1) << 28);
}

Test(tset, family_filter)
{
	tset_free(&s);
	tset_init(&s, AF_INET, true, 0);
	cr_assert_eq(tset_add(&s, "2001:db8::/120", err, sizeof(err)), -1);
	cr_assert_eq(tset_add(&s, "2001:db8::1", err, sizeof(err)), -1);
	cr_assert_eq(tset_add(&s, "198.18.0.0/24", err, sizeof(err)), 0);
}

Test(tset, excludes)
{
	cr_assert_eq(tset_add(&s, "198.18.0.0/24", err, sizeof(err)), 0);
	cr_assert_eq(tset_exclude_list(&s, "198.18.0.0/28,198.18.0.100-110,198.18.0.8/29", err,
				       sizeof(err)), 0);
	cr_assert_eq(tset_exclude(&s, "2001:db8::5", err, sizeof(err)), 0);
	cr_assert_eq(tset_exclude_list(&s, "198.18.0.1,,", err, sizeof(err)), -1);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	cr_assert_eq(s.nexcl[0], 2, "overlapping blocks merged");
	struct addr a;
	const char *name;
	size_t block, n = 0;
	for (uint64_t i = 0; i < s.total; i++) {
		tset_at(&s, i, &a, &name, &block);
		n += tset_excluded(&s, &a);
	}
	cr_assert_eq(n, 16 + 11);
	char b[64];
	inet_pton(AF_INET6, "2001:db8::5", a.b);
	a.family = AF_INET6;
	cr_assert(tset_excluded(&s, &a));
	(void)b;
}

Test(tset, files_with_comments_and_bad_lines)
{
	char path[] = "/tmp/tcpshake-tset-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	fputs("# targets\n198.18.0.1\n\n   198.18.1.0/30   # a block\n", f);
	fclose(f);
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), 0);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	cr_assert_eq(s.total, 5);
	f = fopen(path, "w");
	fputs("198.18.0.1\n198.18.0.0/33\n", f);
	fclose(f);
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), -1);
	char want[128];
	snprintf(want, sizeof(want), "%s:2: 198.18.0.0/33: ", path);
	cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
	f = fopen(path, "w");
	fputs("198.18.0.1 198.18.0.2\n", f);
	fclose(f);
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), -1);
	cr_assert(strstr(err, ":1: one target per line"), "%s", err);
	unlink(path);
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), -1, "missing file");
}

/* A file of exactly these bytes; its path in path (a mkstemp template). */
static void write_file(char *path, const char *bytes, size_t n)
{
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, bytes, n), (ssize_t)n);
	close(fd);
}

Test(tset, file_with_a_nul_byte_is_refused)
{
	char path[] = "/tmp/tcpshake-tset-XXXXXX";
	static const char bytes[] = "198.18.0.1\n198.18.77.2\0garbage\n";
	write_file(path, bytes, sizeof(bytes) - 1);
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), -1, "NUL accepted");
	cr_assert(strstr(err, ":2: a NUL byte"), "%s", err);
	unlink(path);
}

Test(tset, dev_zero_ends_with_one_reason, .timeout = 5)
{
	cr_assert_eq(tset_add_file(&s, "/dev/zero", false, err, sizeof(err)), -1);
	cr_assert(strstr(err, "/dev/zero:1: a NUL byte"), "%s", err);
}

Test(tset, overlong_line_is_refused)
{
	char path[] = "/tmp/tcpshake-tset-XXXXXX";
	char bytes[2000];
	memset(bytes, 'a', sizeof(bytes));
	write_file(path, bytes, sizeof(bytes)); /* no newline at all */
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), -1);
	cr_assert(strstr(err, ":1: line too long"), "%s", err);
	unlink(path);
}

Test(tset, control_characters_are_refused_and_never_echoed)
{
	char path[] = "/tmp/tcpshake-tset-XXXXXX";
	static const char bytes[] = "\033]0;pwned\007host.invalid\n";
	write_file(path, bytes, sizeof(bytes) - 1);
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), -1);
	cr_assert(strstr(err, "control character"), "%s", err);
	cr_assert_null(strchr(err, '\033'), "an escape reached the message: %s", err);
	cr_assert(strstr(err, "\\x1b]0;pwned\\x07"), "%s", err);
	unlink(path);
	cr_assert_eq(tset_add(&s, "198.18.0.1\n", err, sizeof(err)), -1);
}

Test(tset, comment_right_after_a_target)
{
	char path[] = "/tmp/tcpshake-tset-XXXXXX";
	static const char bytes[] = "198.18.0.1#web\n198.18.0.2# db\r\n  198.18.0.3\t#x y z\n";
	write_file(path, bytes, sizeof(bytes) - 1);
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	cr_assert_eq(s.total, 3);
	char buf[64];
	cr_assert_str_eq(at(0, buf), "198.18.0.1");
	unlink(path);
}

Test(tset, wide_ipv6_excludes_are_intervals)
{
	cr_assert_eq(tset_add(&s, "2001:db8::/120", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "2001:db8:1::/120", err, sizeof(err)), 0);
	cr_assert_eq(tset_exclude(&s, "2001:db8::/64", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_exclude(&s, "2001:db8:2::/48", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_exclude(&s, "ff00::/8", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_exclude(&s, "8000::/1", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_exclude(&s, "::/0", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	struct addr a = { AF_INET6, { 0 } };
	inet_pton(AF_INET6, "2001:db8:1::5", a.b);
	cr_assert(tset_excluded(&s, &a), "::/0 holds everything");
	a.family = AF_INET;
	inet_pton(AF_INET, "198.18.0.1", a.b);
	cr_assert_not(tset_excluded(&s, &a));
	cr_assert_eq(tset_add(&s, "2001:db8::/64", err, sizeof(err)), -1, "a target stays bounded");
}

Test(tset, wide_ipv6_exclude_leaves_the_rest)
{
	cr_assert_eq(tset_add(&s, "2001:db8:1::/120", err, sizeof(err)), 0);
	cr_assert_eq(tset_exclude(&s, "2001:db8::/64", err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	struct addr a = { AF_INET6, { 0 } };
	inet_pton(AF_INET6, "2001:db8::ffff:1", a.b);
	cr_assert(tset_excluded(&s, &a));
	inet_pton(AF_INET6, "2001:db8:1::5", a.b);
	cr_assert_not(tset_excluded(&s, &a));
}

Test(tset, unprobeable_targets_are_refused)
{
	static const char *const bad[] = { "0.0.0.0", "::", "0.0.0.0-5", "::/126", "224.0.0.1",
					   "239.1.2.3", "255.255.255.255", "ff02::1", "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(tset_add(&s, bad[i], err, sizeof(err)), -1, "'%s' accepted", bad[i]);
	cr_assert_eq(tset_add(&s, "0.0.0.0", err, sizeof(err)), -1);
	cr_assert(strstr(err, "unspecified"), "%s", err);
	cr_assert_eq(tset_add(&s, "", err, sizeof(err)), -1);
	cr_assert(strstr(err, "empty"), "%s", err);
	cr_assert_eq(tset_exclude(&s, "0.0.0.0/0", err, sizeof(err)), 0, "excludes may hold them");
}

Test(tset, an_address_given_twice_is_probed_once)
{
	cr_assert_eq(tset_add(&s, "198.18.0.2", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "198.18.0.0/30", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "198.18.0.2", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "2001:db8::2", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "198.18.0.9", err, sizeof(err)), 0);
	cr_assert_eq(tset_add(&s, "2001:db8::2", err, sizeof(err)), 0);
	cr_assert_eq(tset_finish(&s, err, sizeof(err)), 0);
	cr_assert_eq(s.n, 4);
	cr_assert_eq(s.total, 7);
	char buf[64];
	cr_assert_str_eq(at(0, buf), "198.18.0.2");
	cr_assert_str_eq(at(5, buf), "2001:db8::2");
	cr_assert_str_eq(at(6, buf), "198.18.0.9");
}

Test(tset, long_reasons_survive_a_long_path)
{
	char path[400];
	memset(path, 'd', sizeof(path));
	for (size_t i = 0; i < sizeof(path); i += 50)
		path[i] = '/';
	path[sizeof(path) - 1] = '\0';
	cr_assert_eq(tset_add_file(&s, path, false, err, sizeof(err)), -1);
	cr_assert(strstr(err, "No such file or directory"), "%s", err);
}

static void check_bijection(uint64_t n, bool identity)
{
	struct cookie_key key;
	perm_key_from_seed(&key, 7);
	struct perm p;
	perm_init(&p, n, &key, identity);
	uint8_t *seen = calloc(n, 1);
	for (uint64_t i = 0; i < n; i++) {
		uint64_t x = perm_at(&p, i);
		cr_assert_lt(x, n);
		cr_assert_eq(seen[x], 0, "%llu twice", (unsigned long long)x);
		seen[x] = 1;
	}
	free(seen);
}

Test(permute, a_bijection_on_every_size)
{
	uint64_t sizes[] = { 1, 2, 3, 5, 16, 17, 100, 1000, 4097, 65536, 65537 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(*sizes); i++)
		check_bijection(sizes[i], false);
	check_bijection(1000, true);
}

Test(permute, the_seed_fixes_the_order_and_shuffles)
{
	struct cookie_key k1, k2, k3;
	perm_key_from_seed(&k1, 42);
	perm_key_from_seed(&k2, 42);
	perm_key_from_seed(&k3, 43);
	struct perm a, b, c;
	perm_init(&a, 1000, &k1, false);
	perm_init(&b, 1000, &k2, false);
	perm_init(&c, 1000, &k3, false);
	int same = 0, moved = 0;
	for (uint64_t i = 0; i < 1000; i++) {
		cr_assert_eq(perm_at(&a, i), perm_at(&b, i));
		same += perm_at(&a, i) == perm_at(&c, i);
		moved += perm_at(&a, i) != i;
	}
	cr_assert_lt(same, 50, "another seed, another order");
	cr_assert_gt(moved, 900, "shuffled");
}

Test(permute, shards_cover_the_space_once)
{
	struct cookie_key key;
	perm_key_from_seed(&key, 1);
	uint64_t n = 10007, shards = 7;
	uint8_t *seen = calloc(n, 1);
	for (uint64_t sh = 0; sh < shards; sh++) {
		struct cookie_key own; /* each machine shuffles with its own key */
		perm_key_from_seed(&own, 100 + sh);
		struct perm p;
		perm_init(&p, n, &own, false);
		for (uint64_t pos = 0; pos < n; pos++) {
			uint64_t i = perm_at(&p, pos);
			if (i % shards == sh) {
				cr_assert_eq(seen[i], 0);
				seen[i] = 1;
			}
		}
	}
	for (uint64_t i = 0; i < n; i++)
		cr_assert_eq(seen[i], 1, "%llu not covered", (unsigned long long)i);
	free(seen);
	(void)key;
}
