from mnist_desk.cli import run

run()
