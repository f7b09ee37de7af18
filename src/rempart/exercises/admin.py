"""The admin site (superusers only, see rempart.core.admin) for exercises and training."""

from django.contrib import admin

from rempart.exercises import models

for model in (
    models.Exercise,
    models.Objective,
    models.Participant,
    models.Inject,
    models.MselVersion,
    models.JournalEntry,
    models.Evaluation,
    models.CorrectiveAction,
    models.ColumnMapping,
    models.Course,
    models.TrainingSession,
    models.Certificate,
):
    admin.site.register(model)
