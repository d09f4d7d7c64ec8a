# Copyright: (c) imscloud.sharing contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The IMS + IAM emulator as a package; tests/emulator/server.py is its command line.

Rooms (each imports only the ones above it in this list):
routes, shapes, clock, totp, settings, faults, seed, aksk, stats -- plain data and pure checks;
jobs, state -- the state behind one lock (state owns the world; jobs judge batch jobs against it);
auth -- who is calling (token or AK/SK); api_base, api_iam, api_images, api_members, api_batch -- one room per API;
control -- /_emulator/; app -- WSGI routing, stats, latency, faults; process -- the command line and server.
"""
