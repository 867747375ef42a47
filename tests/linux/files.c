/* File calls against the VM's private in-memory file system: open/read/write/
 * lseek/close/unlink/dup2/fstat. Natively the same program runs in a temporary
 * directory given as argv[1]. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0); /* so the dup2 below redirects only what follows */
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/x64vm-files-test.txt", dir);
    int fd = open(path, O_CREAT | O_TRUNC | O_RDWR, 0644);
    if (fd < 0) { puts("open failed"); return 1; }
    const char *msg = "hello file\nsecond line\n";
    printf("wrote %zd\n", write(fd, msg, strlen(msg)));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    printf("seek %lld\n", (long long)lseek(fd, 6, SEEK_SET));
    char buf[64] = {0};
    ssize_t n = read(fd, buf, 4);
    printf("read %zd '%s'\n", n, buf);
    printf("end %lld\n", (long long)lseek(fd, 0, SEEK_END));
    close(fd);
    printf("read closed %zd\n", read(fd, buf, 1));

    FILE *f = fopen(path, "a+");
    fprintf(f, "appended %d\n", 42);
    rewind(f);
    char line[64];
    while (fgets(line, sizeof line, f)) printf("line: %s", line);
    fclose(f);

    int saved = dup(1);
    fd = open(path, O_WRONLY | O_APPEND);
    dup2(fd, 1);
    printf("to the file via stdout\n");
    fflush(stdout);
    dup2(saved, 1);
    close(fd);
    f = fopen(path, "r");
    int lines = 0;
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    printf("lines now %d\n", lines);
    printf("unlink %d\n", unlink(path));
    printf("open missing %d\n", open(path, O_RDONLY) < 0);
    return 0;
}
