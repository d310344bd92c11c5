/* SPDX-License-Identifier: MIT
 *
 * The verse-form judge behind `aigc eval verse`.
 */
#include "text/aigc-verse.h"
#include <string.h>

static void test_line(void)
{
    g_assert_true(aigc_verse_line_in_form("兰叶春葳蕤，桂华秋皎洁。", -1));
    g_assert_true(aigc_verse_line_in_form("海上生明月", -1));
    g_assert_true(aigc_verse_line_in_form("昔人已乘黄鹤去，此地空余黄鹤楼。", -1));
    g_assert_true(aigc_verse_line_in_form("  何求美人折？  ", -1));
    /* mixed lengths, other lengths, nothing */
    g_assert_false(aigc_verse_line_in_form("兰叶春葳蕤，昔人已乘黄鹤去。", -1));
    g_assert_false(aigc_verse_line_in_form("噫吁嚱，危乎高哉！", -1));
    g_assert_false(aigc_verse_line_in_form("蜀道之难，难于上青天！", -1));
    g_assert_false(aigc_verse_line_in_form("", -1));
    g_assert_false(aigc_verse_line_in_form("，。", -1));
    /* an invalid byte is a character: five bytes of garbage are not five characters of verse */
    g_assert_false(aigc_verse_line_in_form("\xff\xfe\xfd\xfc\xfb\xfa，桂华秋皎洁。", -1));
    g_assert_false(aigc_verse_line_in_form("兰叶春葳\xff\xfe，桂华秋皎洁。", -1));
    /* len limits the line */
    const char *two = "兰叶春葳蕤，桂华秋皎洁。trailing";
    g_assert_true(aigc_verse_line_in_form(two, (gssize)strlen("兰叶春葳蕤，桂华秋皎洁。")));
}

static void test_poem(void)
{
    int n, ok;
    aigc_verse_score("《感遇・其一》\n作者：张九龄\n兰叶春葳蕤，桂华秋皎洁。\n"
                     "欣欣此生意，自尔为佳节。\n谁知林栖者，闻风坐相悦\n草木有本心何求美人折？\n\n"
                     "《下一首》\n作者：某\n一二三四五，六七八九十。\n",
                     &n, &ok);
    g_assert_cmpint(n, ==, 4); /* stops at the blank line */
    g_assert_cmpint(ok, ==, 3);
    aigc_verse_score("\n\n《题》\n", &n, &ok);
    g_assert_cmpint(n, ==, 0);
    g_assert_cmpint(ok, ==, 0);
    aigc_verse_score("", &n, &ok);
    g_assert_cmpint(n, ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/engine/text/verse/line", test_line);
    g_test_add_func("/engine/text/verse/poem", test_poem);
    return g_test_run();
}
