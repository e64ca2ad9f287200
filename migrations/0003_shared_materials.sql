CREATE TABLE "shared_materials" (
	"source" text NOT NULL,
	"subject" text NOT NULL,
	"ref" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shared_materials_source_subject_pk" PRIMARY KEY("source","subject")
);
