from .common import ClinicCase


class TestSmoke(ClinicCase):
    def test_sell_creates_entitlement(self):
        order = self._clinic_sell(self.package_physio8)
        entitlement = order.clinic_entitlement_ids
        self.assertEqual(len(entitlement), 1)
        self.assertEqual(entitlement.state, "active")
        self.assertEqual(entitlement.uses_remaining, 8)
