"""Clinical rules for LDN prescriptions: screening, medication recognition, dosing, beyond-use dates.

Plain Python (no Django): each module takes plain values and returns plain values. The facts a
pharmacist may need to correct (drug names, dose limits, the USP <795> table) live in ``data/``.
"""
