import unittest

import utils


class UtilsTest(unittest.TestCase):
    def test_slugify(self):
        self.assertEqual(utils.slugify("Weekly Report: 2024"), "weekly-report-2024")

    def test_csv_has_a_header(self):
        self.assertTrue(utils.rows_to_csv([{"id": 1}]).startswith("id"))


if __name__ == "__main__":
    unittest.main()
