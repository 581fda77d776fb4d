#!/usr/bin/env python3
"""modemctl end to end against a scripted AT peer on a real pty (issue: foundation).

Checks `modemctl -d PTY info` (human and --json) for SIMCom and Sierra answer formats,
`modemctl -d PTY at ...` with OK, ERROR and +CME ERROR results, echo handling, a URC
arriving in the middle of a reply, and the exit code of a port that never answers.
"""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "support"))
from scripted_peer import ScriptedPeer  # noqa: E402

MODEMCTL = os.environ.get("MODEMCTL", "modemctl")

SIMCOM_OLD = {
    "ATI": "Manufacturer: SIMCOM INCORPORATED\nModel: SIMCOM_SIM7600SA\n"
           "Revision: SIM7600M21-A_V1.1\nIMEI: 861234567890123\n+GCAP: +CGSM\n\nOK",
    "AT+CGMR": "+CGMR: LE11B01SIM7600M21-A\n\nOK",
    "AT+CMQTTACCQ=?": "+CMQTTACCQ: (0-1),(1-128),(0-1)\n\nOK",
    "AT+CSSLCFG=?": "+CSSLCFG: \"sslversion\",(0-9),(0-4)\n+CSSLCFG: \"authmode\",(0-9),(0-3)\n\nOK",
    "AT+CSQ": "+CSQ: 20,99\n\nOK",
    "AT+CPIN?": "+CME ERROR: SIM busy",
}

SIERRA = {
    "ATI": "Manufacturer: Sierra Wireless, Incorporated\nModel: RC7620\n"
           "Revision: SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20\n"
           "IMEI: 359999999999999\nIMEI SV:  5\nFSN: XX\n+GCAP: +CGSM\n\nOK",
    "AT+CGMR": "SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20\n\nOK",
}


class ModemctlPeer(unittest.TestCase):
    def test_info_simcom_old_firmware(self):
        peer = ScriptedPeer(SIMCOM_OLD)
        rc, out, err = peer.run([MODEMCTL, "-d", "{pty}", "info"])
        self.assertEqual(rc, 0, err)
        self.assertIn("Model:             SIMCOM_SIM7600SA", out)
        self.assertIn("Revision:          LE11B01SIM7600M21-A", out)
        self.assertIn("IMEI:              861234567890123", out)
        self.assertIn("MQTT credentials NO", out)
        self.assertIn("3.1 only", out)
        self.assertIn("seed 000", out)
        # echo was on at the start; modemctl switched it off before anything else
        self.assertEqual(peer.received[peer.received.index("ATE0") + 1], "ATI")
        self.assertIn("AT+CMQTTACCQ=?", peer.received)

    def test_info_json(self):
        rc, out, err = ScriptedPeer(SIMCOM_OLD).run([MODEMCTL, "--json", "-d", "{pty}", "info"])
        self.assertEqual(rc, 0, err)
        doc = json.loads(out)
        self.assertEqual(doc["revision"], "LE11B01SIM7600M21-A")
        self.assertEqual(doc["family"], "SIM7600")
        self.assertFalse(doc["capabilities"]["mqtt_credentials"])
        self.assertEqual(doc["capabilities"]["mqtt_versions"], ["3.1"])
        self.assertEqual(doc["capabilities"]["tls_version_max"], 4)
        self.assertEqual(doc["quirk"]["revision"], "LE11B01SIM7600M21-A")

    def test_info_sierra(self):
        rc, out, err = ScriptedPeer(SIERRA).run([MODEMCTL, "-d", "{pty}", "info"])
        self.assertEqual(rc, 0, err)
        self.assertIn("Model:             RC7620", out)
        self.assertIn("SWI9X07H_00.08.07.00 0ce4c1 jenkins 2021/03/17 02:18:20", out)
        self.assertIn("RC76XX (Sierra Wireless)", out)

    def test_at_csq(self):
        peer = ScriptedPeer(SIMCOM_OLD, urc_after=("AT+CSQ", "SMS DONE"))
        rc, out, err = peer.run([MODEMCTL, "-d", "{pty}", "at", "AT+CSQ"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.splitlines(), ["+CSQ: 20,99", "OK"])

    def test_at_json_and_errors(self):
        rc, out, _ = ScriptedPeer(SIMCOM_OLD).run(
            [MODEMCTL, "--json", "-d", "{pty}", "at", "+CSQ", "AT+NOPE"])
        self.assertEqual(rc, 5)
        docs = [json.loads(l) for l in out.splitlines()]
        self.assertEqual(docs[0], {"command": "AT+CSQ", "lines": ["+CSQ: 20,99"],
                                   "result": "OK", "error": None})
        self.assertEqual(docs[1]["result"], "ERROR")
        self.assertEqual(docs[1]["error"], "MK_E_AT_ERROR")

    def test_at_cme_text(self):
        rc, out, _ = ScriptedPeer(SIMCOM_OLD).run([MODEMCTL, "-d", "{pty}", "at", "AT+CPIN?"])
        self.assertEqual(rc, 5)
        self.assertIn("+CME ERROR: SIM busy", out)

    def test_dead_port_times_out(self):
        rc, out, err = ScriptedPeer({}, silent=True).run(
            [MODEMCTL, "--timeout", "2", "-d", "{pty}", "at", "AT"])
        self.assertEqual(rc, 4, err)
        self.assertIn("does not answer", err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
