/*
 * A one-header test harness: TAP output, no malloc, no setjmp. A failed check prints
 * where and why, marks the test failed and carries on with the next check, so one run
 * shows every broken expectation. main() returns non-zero if anything failed.
 *
 *   MK_TEST(name) { MK_CHECK(x == 1); MK_CHECK_EQ_INT(a, b); ... }
 *   int main(void) { return mk_test_run_all(); }   -- via MK_TEST_MAIN()
 */
#ifndef MK_TEST_H
#define MK_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

struct mk_test_case {
    const char *name;
    void (*fn)(void);
};

extern int mk_test_failed_checks;
extern struct mk_test_case mk_test_cases[];
extern int mk_test_ncases;

#define MK_TEST_MAX 256

#define MK_TEST(name)                                                                        \
    static void mk_test_fn_##name(void);                                                     \
    __attribute__((constructor)) static void mk_test_reg_##name(void)                        \
    {                                                                                        \
        if (mk_test_ncases < MK_TEST_MAX)                                                    \
            mk_test_cases[mk_test_ncases++] = (struct mk_test_case){#name, mk_test_fn_##name}; \
    }                                                                                        \
    static void mk_test_fn_##name(void)

#define MK_FAIL_AT(file, line, ...)                                                          \
    do {                                                                                     \
        mk_test_failed_checks++;                                                             \
        printf("#   %s:%d: ", file, line);                                                   \
        printf(__VA_ARGS__);                                                                 \
        printf("\n");                                                                        \
    } while (0)

#define MK_CHECK(cond)                                                                       \
    do {                                                                                     \
        if (!(cond))                                                                         \
            MK_FAIL_AT(__FILE__, __LINE__, "check failed: %s", #cond);                      \
    } while (0)

#define MK_CHECK_EQ_INT(a, b)                                                                \
    do {                                                                                     \
        long long mk_a_ = (long long)(a), mk_b_ = (long long)(b);                            \
        if (mk_a_ != mk_b_)                                                                  \
            MK_FAIL_AT(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, mk_a_, mk_b_);  \
    } while (0)

#define MK_CHECK_EQ_HEX(a, b)                                                                \
    do {                                                                                     \
        unsigned long long mk_a_ = (unsigned long long)(a), mk_b_ = (unsigned long long)(b); \
        if (mk_a_ != mk_b_)                                                                  \
            MK_FAIL_AT(__FILE__, __LINE__, "%s == %s: 0x%llx != 0x%llx", #a, #b, mk_a_, mk_b_); \
    } while (0)

#define MK_CHECK_EQ_STR(a, b)                                                                \
    do {                                                                                     \
        const char *mk_a_ = (a), *mk_b_ = (b);                                               \
        if (!mk_a_ || !mk_b_ || strcmp(mk_a_, mk_b_) != 0)                                   \
            MK_FAIL_AT(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b,            \
                       mk_a_ ? mk_a_ : "(null)", mk_b_ ? mk_b_ : "(null)");                  \
    } while (0)

#define MK_CHECK_EQ_MEM(a, b, n)                                                             \
    do {                                                                                     \
        if (memcmp((a), (b), (n)) != 0)                                                      \
            MK_FAIL_AT(__FILE__, __LINE__, "%s == %s over %zu bytes", #a, #b, (size_t)(n)); \
    } while (0)

int mk_test_run_all(void);

#define MK_TEST_MAIN()                                                                       \
    int mk_test_failed_checks;                                                               \
    struct mk_test_case mk_test_cases[MK_TEST_MAX];                                          \
    int mk_test_ncases;                                                                      \
    int mk_test_run_all(void)                                                                \
    {                                                                                        \
        int failed = 0;                                                                      \
        printf("1..%d\n", mk_test_ncases);                                                   \
        for (int i = 0; i < mk_test_ncases; i++) {                                           \
            int before = mk_test_failed_checks;                                              \
            mk_test_cases[i].fn();                                                           \
            int ok = mk_test_failed_checks == before;                                        \
            failed += !ok;                                                                   \
            printf("%s %d - %s\n", ok ? "ok" : "not ok", i + 1, mk_test_cases[i].name);     \
        }                                                                                    \
        fflush(stdout);                                                                      \
        return failed ? 1 : 0;                                                               \
    }                                                                                        \
    int main(void)                                                                           \
    {                                                                                        \
        return mk_test_run_all();                                                            \
    }

#endif
