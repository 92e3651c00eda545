# nbgrader configuration: the repository root is the course directory.
c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = "mse-gradient"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_assignments = [dict(name="mse-gradient")]

# Students' code runs against the kernel the course installs in .venv.
c.Execute.kernel_name = "python3"
# Per cell. The checks bound each call of a student's function at 10 s, and
# an sgd check makes a handful of calls; 120 s is never reached by honest work.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}

# Feedback shows each check's message but not the hidden tests' code.
c.GenerateFeedback.preprocessors = [
    "nbgrader.preprocessors.ClearHiddenTests",
    "nbgrader.preprocessors.GetGrades",
    "nbconvert.preprocessors.CSSHTMLHeaderPreprocessor",
]
