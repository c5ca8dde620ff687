"""Re-encrypt every stored ID number under the newest key of ID_NUMBER_KEYS (and, with --rehash,
recompute the lookup hashes under the current ID_NUMBER_HASH_KEY). See README, "Key rotation"."""

from django.core.management.base import BaseCommand
from django.db import transaction

from members import idnumbers
from members.models import ImportBatch, Member

BATCH = 2000


class Command(BaseCommand):
    help = "Re-encrypt stored national ID numbers under the newest key; --rehash also renews lookup hashes."

    def add_arguments(self, parser):
        parser.add_argument("--rehash", action="store_true", help="Recompute the lookup hashes too.")

    def handle(self, *args, rehash: bool, **options):
        done = 0
        last_pk = 0
        while True:
            with transaction.atomic():
                members = list(Member.objects.select_for_update().filter(pk__gt=last_pk).order_by("pk")[:BATCH])
                if not members:
                    break
                for member in members:
                    if rehash:
                        member.id_number = member.id_number  # decrypts with any key, re-encrypts, re-hashes
                    else:
                        member.id_number_encrypted = idnumbers.rotate(member.id_number_encrypted)
                fields = ["id_number_encrypted", *(["id_number_hash"] if rehash else [])]
                Member.objects.bulk_update(members, fields)
            done += len(members)
            last_pk = members[-1].pk
        # Previews of imports not yet committed hold encrypted numbers too.
        for batch in ImportBatch.objects.exclude(status=ImportBatch.Status.COMMITTED):
            for row in batch.rows:
                if row.get("id"):
                    row["id"] = idnumbers.rotate(row["id"])
            batch.save(update_fields=["rows"])
        self.stdout.write(self.style.SUCCESS(f"{done} ID numbers re-encrypted{' and re-hashed' if rehash else ''}."))
