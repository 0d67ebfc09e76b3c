/* test_migrate.c — unit tests of lib/migrate.c that need no database: migration file names,
 * listing a directory (order, duplicates, bad names) and SHA-256 checksums checked with libsodium. */
#include "unit.h"
#include <sodium.h>
#include "migrate.h"

static void sha256_hex(const char *s, size_t n, char out[65])
{
    unsigned char h[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(h, (const unsigned char *)s, n);
    sodium_bin2hex(out, 65, h, sizeof h);
}

START_TEST(test_parse_name_valid)
{
    ck_assert_int_eq(migrate_parse_name("0001_core.sql"), 1);
    ck_assert_int_eq(migrate_parse_name("0001_a.sql"), 1);
    ck_assert_int_eq(migrate_parse_name("0042_add_users_2.sql"), 42);
    ck_assert_int_eq(migrate_parse_name("9999_z.sql"), 9999);
    ck_assert_int_eq(migrate_parse_name("12345_more_digits.sql"), 12345);
    ck_assert_int_eq(migrate_parse_name("0000_zero.sql"), 0);
    ck_assert_int_eq(migrate_parse_name("0007___.sql"), 7);
    ck_assert_int_eq(migrate_parse_name("0003_2fa.sql"), 3);
}
END_TEST

START_TEST(test_parse_name_invalid)
{
    static const char *bad[] = {
        "",
        ".sql",
        "0001.sql",
        "001_core.sql",       /* fewer than 4 digits */
        "1_core.sql",
        "0001core.sql",       /* no '_' */
        "0001_.sql",          /* empty name */
        "00001_.sql",
        "0001_Core.sql",      /* upper case */
        "0001_core.SQL",
        "0001_core.sql.bak",
        "0001_core.sqlx",
        "0001_co-re.sql",
        "0001_co re.sql",
        "0001_co.re.sql",
        "0001_caf\xC3\xA9.sql",
        "abcd_core.sql",
        "_0001_core.sql",
        " 0001_core.sql",
        "0001_core",
        "0001_core.sq",
        "99999999999_overflow.sql", /* more digits than fit */
        "-001_neg.sql",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(migrate_parse_name(bad[i]) == -1, "'%s' accepted", bad[i]);
    /* names of 256 characters and more are refused */
    char lng[300];
    memset(lng, 'a', sizeof lng);
    memcpy(lng, "0001_", 5);
    strcpy(lng + 280, ".sql");
    ck_assert_int_eq(migrate_parse_name(lng), -1);
    strcpy(lng + 200, ".sql");
    ck_assert_int_eq(migrate_parse_name(lng), 1);
}
END_TEST

START_TEST(test_list_sorted_with_checksums)
{
    char dir[512];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    static const struct {
        const char *name, *content;
    } files[] = {
        {"0010_third.sql", "CREATE TABLE c (id int);\n"},
        {"0002_second.sql", "CREATE TABLE b (id int);\n-- comment\n"},
        {"0001_first.sql", "CREATE TABLE a (id int);\n"},
        {"0100_empty.sql", ""},
    };
    for (size_t i = 0; i < 4; i++)
        ck_assert_int_eq(unit_write_file(dir, files[i].name, files[i].content, (size_t)-1), 0);
    /* not migrations: ignored */
    ck_assert_int_eq(unit_write_file(dir, "README.md", "docs", (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(dir, ".0003_hidden.sql", "x", (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(dir, "0004_backup.sql~", "x", (size_t)-1), 0);
    migration_file *m = NULL;
    size_t n = 99;
    char err[512] = "";
    ck_assert_int_eq(migrate_list(dir, &m, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 4);
    ck_assert_str_eq(m[0].name, "0001_first.sql");
    ck_assert_str_eq(m[1].name, "0002_second.sql");
    ck_assert_str_eq(m[2].name, "0010_third.sql");
    ck_assert_str_eq(m[3].name, "0100_empty.sql");
    ck_assert_int_eq(m[0].number, 1);
    ck_assert_int_eq(m[1].number, 2);
    ck_assert_int_eq(m[2].number, 10);
    ck_assert_int_eq(m[3].number, 100);
    for (size_t i = 0; i < n; i++) {
        const char *content = NULL;
        for (size_t k = 0; k < 4; k++)
            if (strcmp(files[k].name, m[i].name) == 0)
                content = files[k].content;
        char want[65];
        sha256_hex(content, strlen(content), want);
        ck_assert_str_eq(m[i].checksum, want);
        ck_assert_uint_eq(strlen(m[i].checksum), 64);
    }
    /* the well-known digest of nothing */
    ck_assert_str_eq(m[3].checksum, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    free(m);
    unit_rm_rf(dir);
}
END_TEST

START_TEST(test_checksum_file)
{
    char dir[512], path[1024], sum[65], want[65];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    /* binary content with NUL bytes is hashed whole */
    static const char bin[] = "abc\0def\n\xff\xfe";
    ck_assert_int_eq(unit_write_file(dir, "0001_bin.sql", bin, sizeof bin - 1), 0);
    snprintf(path, sizeof path, "%s/0001_bin.sql", dir);
    ck_assert_int_eq(migrate_checksum_file(path, sum), 0);
    sha256_hex(bin, sizeof bin - 1, want);
    ck_assert_str_eq(sum, want);
    ck_assert_int_eq(migrate_checksum_file("/nonexistent/0001_x.sql", sum), -1);
    /* a larger file, several read buffers long */
    size_t big_n = 300000;
    char *big = malloc(big_n);
    for (size_t i = 0; i < big_n; i++)
        big[i] = (char)('a' + i % 26);
    ck_assert_int_eq(unit_write_file(dir, "0002_big.sql", big, big_n), 0);
    snprintf(path, sizeof path, "%s/0002_big.sql", dir);
    ck_assert_int_eq(migrate_checksum_file(path, sum), 0);
    sha256_hex(big, big_n, want);
    ck_assert_str_eq(sum, want);
    free(big);
    unit_rm_rf(dir);
}
END_TEST

START_TEST(test_list_duplicate_numbers)
{
    char dir[512];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    ck_assert_int_eq(unit_write_file(dir, "0001_a.sql", "a", (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(dir, "0002_b.sql", "b", (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(dir, "0002_c.sql", "c", (size_t)-1), 0);
    migration_file *m = (migration_file *)1;
    size_t n = 99;
    char err[512] = "";
    ck_assert_int_eq(migrate_list(dir, &m, &n, err, sizeof err), -1);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(strstr(err, "0002_b.sql") && strstr(err, "0002_c.sql"), "err: %s", err);
    unit_rm_rf(dir);
    /* the same number written with more digits is the same migration */
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    ck_assert_int_eq(unit_write_file(dir, "0005_a.sql", "a", (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(dir, "00005_b.sql", "b", (size_t)-1), 0);
    ck_assert_int_eq(migrate_list(dir, &m, &n, err, sizeof err), -1);
    unit_rm_rf(dir);
}
END_TEST

START_TEST(test_list_bad_name)
{
    char dir[512];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    ck_assert_int_eq(unit_write_file(dir, "0001_a.sql", "a", (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(dir, "0002_b.sql", "b", (size_t)-1), 0);
    ck_assert_int_eq(unit_write_file(dir, "3_Bad-Name.sql", "c", (size_t)-1), 0);
    migration_file *m = (migration_file *)1;
    size_t n = 99;
    char err[512] = "";
    ck_assert_int_eq(migrate_list(dir, &m, &n, err, sizeof err), -1);
    ck_assert_ptr_null(m);
    ck_assert_uint_eq(n, 0);
    ck_assert_msg(strstr(err, "3_Bad-Name.sql") != NULL, "err: %s", err);
    unit_rm_rf(dir);
}
END_TEST

START_TEST(test_list_empty_and_missing)
{
    char dir[512];
    ck_assert_ptr_nonnull(unit_mkdtemp(dir, sizeof dir));
    migration_file *m = (migration_file *)1;
    size_t n = 99;
    char err[512] = "";
    ck_assert_int_eq(migrate_list(dir, &m, &n, err, sizeof err), 0);
    ck_assert_uint_eq(n, 0);
    ck_assert_ptr_null(m);
    unit_rm_rf(dir);
    ck_assert_int_eq(migrate_list("/nonexistent/bcf-sql", &m, &n, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "/nonexistent/bcf-sql") != NULL, "err: %s", err);
}
END_TEST

START_TEST(test_shipped_migrations)
{
    /* the project's own sql/ directory must list cleanly */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/sql", unit_srcdir());
    migration_file *m = NULL;
    size_t n = 0;
    char err[512] = "";
    ck_assert_msg(migrate_list(dir, &m, &n, err, sizeof err) == 0, "%s: %s", dir, err);
    ck_assert_uint_ge(n, 1);
    ck_assert_int_eq(m[0].number, 1);
    for (size_t i = 1; i < n; i++)
        ck_assert_int_gt(m[i].number, m[i - 1].number);
    free(m);
}
END_TEST

int main(void)
{
    if (sodium_init() < 0)
        return EXIT_FAILURE;
    Suite *s = suite_create("migrate");
    TCase *tc = tcase_create("names");
    tcase_add_test(tc, test_parse_name_valid);
    tcase_add_test(tc, test_parse_name_invalid);
    suite_add_tcase(s, tc);
    tc = tcase_create("list");
    tcase_add_test(tc, test_list_sorted_with_checksums);
    tcase_add_test(tc, test_checksum_file);
    tcase_add_test(tc, test_list_duplicate_numbers);
    tcase_add_test(tc, test_list_bad_name);
    tcase_add_test(tc, test_list_empty_and_missing);
    tcase_add_test(tc, test_shipped_migrations);
    suite_add_tcase(s, tc);
    return unit_run(s);
}
