import unittest

import models


class ModelsTest(unittest.TestCase):
    def test_added_users_are_listed(self):
        models.init_db(":memory:")
        models.add_user("Ada")
        self.assertIn("Ada", [u["name"] for u in models.list_users()])


if __name__ == "__main__":
    unittest.main()
