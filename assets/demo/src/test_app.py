import unittest

import app


class AppTest(unittest.TestCase):
    def test_index_lists_users(self):
        app.init_app()
        status, body = app.app.call("/")
        self.assertEqual(status, "200 OK")
        self.assertIn(b"users:", body)


if __name__ == "__main__":
    unittest.main()
