# expect: clean
class Job:
    def __init__(self, name):
        self.name = name

    def run(self, debug=False):
        print(self.name, "debug" if debug else "quiet")


job = Job("nightly-export")
job.run(debug=True)
