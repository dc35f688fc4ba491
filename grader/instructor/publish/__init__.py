"""What an instructor publishes from this repository, one module per audience.

    template    student_template/ from the marked reference (`grade template`; docs/templates.md)
    wheel       the student edition's wheel (`grade dist student`; docs/install.md)
    gradescope  the Gradescope autograder zip, and its runner inside Gradescope (docs/gradescope.md)
"""
