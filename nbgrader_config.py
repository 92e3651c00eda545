# nbgrader configuration: the repository root is the course directory.
import warnings

c = get_config()  # noqa: F821 (provided by nbgrader)

# nbgrader 0.9.6 under SQLAlchemy 2 warns "Object of type <Submitted...> not in
# session" for every new submission; it adds the object to the session itself
# the next moment (nbgrader.api.Gradebook.add_submission), so nothing is lost.
warnings.filterwarnings("ignore", message=r"Object of type <Submitted\w+> not in session",
                        module=r"nbgrader\.api")

c.CourseDirectory.course_id = "mse-gradient"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"

# Autograde runs each submission in the course's sandbox with the same judge
# as `msegrad grade` (autograder/runners/nbgrader.py), not in the student's
# kernel: the checks, the gradebook and the solutions are out of its reach.
c.Autograde.sanitize_preprocessors = [
    "autograder.runners.nbgrader.StartGrader",      # the sandboxes warm up while nbgrader sanitizes
    "autograder.runners.nbgrader.SetDueDate",       # course.toml's deadline.due, into the gradebook
    "nbgrader.preprocessors.ClearOutput",
    "nbgrader.preprocessors.DeduplicateIds",
    "nbgrader.preprocessors.OverwriteKernelspec",
    "autograder.runners.nbgrader.OverwriteCells",   # restores locked cells; quiet about released hidden tests
    "autograder.runners.nbgrader.CheckCellMetadata",  # nbgrader's, with its JSON schema checked once a run
]
c.Autograde.autograde_preprocessors = [
    "autograder.runners.nbgrader.IsolatedExecute",  # instead of nbgrader.preprocessors.Execute
    "nbgrader.preprocessors.IgnorePattern",
    "nbconvert.preprocessors.ClearMetadataPreprocessor",
    "nbgrader.preprocessors.LimitOutput",
    "nbgrader.preprocessors.SaveAutoGrades",
    "autograder.runners.nbgrader.FlagForReview",    # needs manual grade: review, answer-key, grader-error
    "nbgrader.preprocessors.AssignLatePenalties",
    "autograder.runners.nbgrader.CheckCellMetadata",  # nbgrader's, with its JSON schema checked once a run
]
# The switch for a course without bubblewrap: True runs nbgrader's own Execute,
# the checks inside the student's kernel. NOT tamper-proof: a submission can
# change the checks, write the gradebook and read the solutions there.
c.IsolatedExecute.in_kernel = False

# Late submissions lose course.toml's deadline.late_penalty_per_day per day late.
c.AssignLatePenalties.plugin_class = "autograder.runners.nbgrader.CourseLatePolicy"

# Used only with in_kernel = True: the student's kernel, and its time limit.
c.Execute.kernel_name = "python3"
# Per cell: twice course.toml's limits.function_seconds (one function's checks,
# each call bounded by limits.call_seconds), never reached by honest work.
from autograder import config as _course  # noqa: E402

c.Execute.timeout = int(2 * _course.get("limits", "function_seconds"))
c.Execute.interrupt_on_timeout = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback shows each check's message but not the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "autograder.runners.nbgrader.ClearHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
